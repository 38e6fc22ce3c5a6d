"""Page view-models: what each page or fragment family shows, gathered through services/ and
put in words (formatting, form parsing); the views render them, templates read them."""
