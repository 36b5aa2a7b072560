"""cogrt's own version, in a module of its own: the runtime reports it and sends it as its
User-Agent, and importing the package root from below would reach the HTTP shell."""

__version__ = "0.1.0"
