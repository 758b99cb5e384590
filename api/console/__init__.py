"""The staff web console under /console (server-rendered, Japanese)."""
