"""Catalog imports: uploads, the service and API, the worker's runner and job, the readers of
each file format (importers/) and the child process that turns a file into chunks."""
