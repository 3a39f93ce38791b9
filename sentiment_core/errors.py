"""The one exception type for bad input: the CLI prints it as a single line and exits 2."""


class InputError(Exception):
    """Bad user input (a file, a column, a YAML field). `where` names the file, `field` the item."""

    def __init__(self, where: str, field: str | None, message: str):
        self.where, self.field, self.message = str(where), field, message
        super().__init__(self.line())

    def line(self) -> str:
        """One line, whatever the input held (a newline in a column name is shown as \\n)."""
        field = f": {self.field}" if self.field else ""
        text = f"{self.where}{field}: {self.message}"
        return text.replace("\r", "\\r").replace("\n", "\\n")
