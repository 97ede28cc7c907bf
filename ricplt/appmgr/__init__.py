"""A local stand-in for O-RAN SC's appmgr registration and rtmgr route distribution."""
