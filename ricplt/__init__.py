"""Local stand-ins for the O-RAN SC near-RT RIC platform (A1 mediator, appmgr, routes, ...)."""
