#!/usr/bin/env python
from reslib.manage import main

if __name__ == "__main__":
    main()
