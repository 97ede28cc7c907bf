"""A local stand-in for O-RAN SC's A1 mediator: A1-P v2 REST northbound, RMR 20010/20011/20012 southbound."""
