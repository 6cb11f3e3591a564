# A namespace portion, as when wheels install side by side in one site-packages.
__path__ = __import__("pkgutil").extend_path(__path__, __name__)
