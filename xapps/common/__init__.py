"""What every twinric xApp shares: descriptor config and its watcher, appmgr registration, the HTTP
endpoints (health, config, metrics, subscription notifications), KPM subscriptions through submgr's
REST API, A1 policy handling and the PEP client of the zero-trust PDP."""
