"""Readers and writers of files: meshes and recordings."""
