from sdl_theory.cli import main

raise SystemExit(main())
