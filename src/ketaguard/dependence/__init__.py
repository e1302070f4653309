"""Dependence signals during treatment: pure detectors over one patient's timeline.

``timeline`` holds the facts (built from the database elsewhere), ``thresholds`` the numbers the
detectors compare against, ``signals`` what they report, ``detectors`` the rules (written in
``dose_rules``, ``report_rules`` and ``baseline_rules``, with shared helpers in ``evidence``) and
``evaluate``, and ``status`` the patient's dependence status with its full explanation. No
database, no HTTP.
"""
