class JobError(Exception):
    """A failure whose message says what is wrong with the input (manifest, export, files).

    The job prints the message as the run's error text; no stack trace is needed to understand it.
    """
