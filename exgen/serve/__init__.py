"""exgen serve: a live preview of one sheet while it is written."""
