"""onoffice"""
