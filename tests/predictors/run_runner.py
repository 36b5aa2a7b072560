"""A BaseRunner whose entry point is run(); found as `Runner`."""

from cog import BaseRunner, Input


class Runner(BaseRunner):
    def setup(self) -> None:
        self.prefix = "hello "

    def run(self, name: str = Input(default="world", description="Who")) -> str:
        return self.prefix + name
