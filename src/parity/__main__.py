from parity.cli.main import run

run()
