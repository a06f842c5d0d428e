"""The project's own labelled corpus: `build.py` assembles it from writers' posts, annotations and rulings."""
