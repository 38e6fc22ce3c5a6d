"""The one error type of spec parsing: a list of "<path>: <what is wrong>" messages."""


class SpecError(Exception):
    """An invalid group spec; `errors` lists every problem found as "<path>: <message>"."""

    def __init__(self, errors):
        if isinstance(errors, str):
            errors = [errors]
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))

    @classmethod
    def at(cls, path, message):
        """Build an error with one message at `path`."""
        return cls([f"{path}: {message}"])


class Problems:
    """Collects errors so a parser can report several at once."""

    def __init__(self):
        self.errors = []

    def add(self, path, message):
        """Record one problem at `path`."""
        self.errors.append(f"{path}: {message}")

    def check(self, func, *args, **kwargs):
        """Call `func`; on SpecError record its messages and return None."""
        try:
            return func(*args, **kwargs)
        except SpecError as err:
            self.errors.extend(err.errors)
            return None

    def raise_if_any(self):
        """Raise a SpecError with every recorded problem, if there is one."""
        if self.errors:
            raise SpecError(self.errors)

    def __bool__(self):
        return bool(self.errors)
