"""The `tendero` console command: Django's manage command for this project.

`tendero clv` on files (summarize, fit, predict, validate) runs without
django.setup(): it reads and writes CSV files and needs neither the database nor
the other apps, whose models, admin, API and task queue take 0.6 s to import,
more than half of a `tendero clv fit` on 1,000,000 customers. The settings are
still read, and the command runs as Django runs it (`Command.run_from_argv`: the
same options, messages and exit status). Every other command, `tendero clv
score` among them, goes through Django's manage machinery.
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tendero.settings")
    if sys.argv[1:2] == ["clv"]:
        # Imported here: `tendero clv` on files starts without Django's setup.
        from tendero.insights.management.commands import clv

        if clv.runs_without_apps(sys.argv[2:]):
            from django.conf import settings

            # Read the settings first, as every command does (a production
            # without its secrets refuses to start): only the apps are left out.
            _ = settings.SECRET_KEY
            clv.Command().run_from_argv(sys.argv)
            return
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
