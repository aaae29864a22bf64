"""Grading each student's answers against their own variant's key, with error carried
forward: reading what students hand in, the policy, the verdicts, and the reports."""
