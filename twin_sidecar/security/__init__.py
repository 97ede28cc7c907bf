"""Security analytics of the twin: what each subject (UE, E2 node, xApp) did (``evidence``), the signals
and twin-only cross-checks computed from it (``signals``), streaming anomaly detectors over them
(``detectors``, river), trust scores (``trust_scores``), the poisoning defence of the twin's training
(``training_guard``) and the loop that ties them together (``analytics``)."""
