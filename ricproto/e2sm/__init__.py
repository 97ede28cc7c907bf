"""E2 service models: E2SM-KPM v3 (RAN function 2) and E2SM-RC (RAN function 3) codecs.

Modules: `kpm` and `rc` (typed messages and encode/decode functions), `identities` (PLMN, NR-CGI,
S-NSSAI), `ueid` (the E2SM UEID CHOICE), `ran_function_name` (RANfunction-Name), `measurements`
(the 3GPP TS 28.552 names used), `asn1spec` (the project's own ASN.1 in `asn/`, compiled once and
cached) and `kpm_report_aper` (the hand-written hot path for KPM reports, on `ricproto.aper`).
"""
