"""console.core"""
