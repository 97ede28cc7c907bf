"""The RIC applications: ``common`` (what every xApp shares), ``control`` (behaviour policy)."""
