from feedgen_dw.cli import main

raise SystemExit(main())
