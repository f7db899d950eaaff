"""Stand-ins for outside services, served over HTTP on 127.0.0.1 for tests."""
