"""The leaders' view: a glanceable, phone-first summary of where the campaign stands (issue 19)."""
