"""console.backends"""
