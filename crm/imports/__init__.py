"""CSV imports: readers and validators (pandas), planners per format, writers."""
