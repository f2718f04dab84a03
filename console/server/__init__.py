"""console.server"""
