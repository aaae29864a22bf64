"""Delivery through a learning platform: a class as Moodle XML or a QTI 1.2 package, and
the platforms' responses reports read back for grading."""
