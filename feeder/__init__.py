"""feeder: turn a directory of Hexo-style Markdown articles into feeds and Telegram posts.

The pipeline, one module a step:

    scan.py      find article files that are new, changed or deleted
    read.py      article file -> Article (front matter, dates, title recovery)
    derive.py    Article -> Entry (summary, thumbnail, sanitised content, link)
    select.py    which entries go into which feed, newest first
    render.py    entries -> RSS 2.0 / Atom 1.0 / JSON Feed / OPML bytes
    output.py    bytes -> files, atomically and only when they change
    store.py     the SQLite state: articles, derived entries, feed files, outbox
    build.py     one pass of the pipeline (``feeder build``)
    service.py   the long-running job (``feeder run``): watcher, scheduler, server
    serve.py     the HTTP server for the output folder
    telegram_format.py / outbox.py / send.py   the Telegram half
"""

__version__ = "0.1.0"
