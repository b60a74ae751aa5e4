"""The web UI: server-rendered pages (Jinja2) with htmx and uPlot, served by ``parity server
start`` at ``/`` and alone by ``parity ui``. Its pages join the server's one route table
(``page_table.PAGES``), so the gate's authentication, roles and deny-by-default apply to them."""
