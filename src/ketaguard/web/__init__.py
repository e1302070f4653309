"""The server-rendered web app: pages, their templates and the static files they use."""
