"""Scaffolding for tests and benches, outside the apps: rendered looks for synthetic
boards (`testkit.looks`) and tiny random-weight diffusion pipelines
(`testkit.tiny_diffusion`). Nothing in moodboards/, taste/, generation/ or api/ imports it.
"""
