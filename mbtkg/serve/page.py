"""The web page at ``/``: YASGUI (bundled, no CDN) with one tab per competency query.

Each competency query appears with its parameters bound to the values of its ``# example:``
line, so a click on "run" answers the question for the bundled examples. The list of examples
is also written into the HTML itself, so it reads without JavaScript.
"""

from __future__ import annotations

import html
import json

from ..queries import list_queries

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>mbtkg SPARQL endpoint</title>
<link rel="stylesheet" href="/static/yasgui/yasgui.min.css">
<style>
 body {{ font-family: system-ui, sans-serif; margin: 0 1rem; }}
 header h1 {{ font-size: 1.3rem; margin: .6rem 0 .2rem; }}
 header p {{ margin: .2rem 0; color: #444; font-size: .9rem; }}
 #mbtkg-examples {{ display: flex; flex-wrap: wrap; gap: .3rem; padding: 0; margin: .4rem 0; }}
 #mbtkg-examples li {{ list-style: none; }}
 #mbtkg-examples button {{ font-size: .8rem; cursor: pointer; }}
 details {{ font-size: .9rem; margin: .2rem 0 .4rem; }}
 .yasgui .autocompleteWrapper {{ display: none !important; }}
</style>
</head>
<body>
<header>
<h1>mbtkg: Mentalization-Based Therapy knowledge graph</h1>
<p>SPARQL 1.1 endpoint at <code>/sparql</code> ({mode}). Each tab is a competency query, bound to its example.</p>
<details><summary>The competency queries and their questions</summary>
<ul id="mbtkg-examples">
{items}
</ul>
</details>
</header>
<div id="yasgui"></div>
<script type="application/json" id="mbtkg-example-data">{data}</script>
<script src="/static/yasgui/yasgui.min.js"></script>
<script>
(function () {{
  var examples = JSON.parse(document.getElementById("mbtkg-example-data").textContent);
  var endpoint = window.location.origin + "/sparql";
  var Yasqe = Yasgui.Yasqe;
  if (Yasqe && Yasqe.defaults && Yasqe.defaults.autocompleters) {{
    // the class and property completers ask a web service (LOV): keep the page offline
    Yasqe.defaults.autocompleters = Yasqe.defaults.autocompleters.filter(function (n) {{
      return n !== "class" && n !== "property";
    }});
  }}
  var yasgui = new Yasgui(document.getElementById("yasgui"), {{
    requestConfig: {{ endpoint: endpoint, method: "POST" }},
    copyEndpointOnNewTab: true,
    persistenceId: null,
    populateFromUrl: false,
    endpointCatalogueOptions: {{ getData: function () {{ return [{{ endpoint: endpoint }}]; }} }}
  }});
  var first = yasgui.getTab();
  var tabs = {{}};
  examples.forEach(function (ex, i) {{
    var tab = (i === 0 && first) ? first : yasgui.addTab(true, {{ name: ex.title }});
    tab.setName(ex.title);
    tab.setEndpoint(endpoint);
    tab.setQuery(ex.query);
    tabs[ex.name] = tab;
  }});
  if (first) {{
    first.select();
    // "/?run" opens the page with the first example already answered
    if (new URLSearchParams(window.location.search).has("run")) {{ first.query(); }}
  }}
  document.querySelectorAll("#mbtkg-examples button").forEach(function (b) {{
    b.addEventListener("click", function () {{ tabs[b.dataset.query].select(); }});
  }});
  window.mbtkgYasgui = yasgui;
}})();
</script>
</body>
</html>
"""


def examples() -> list[dict[str, str]]:
    """Every competency query as {name, title, question, query} with its example bound."""
    return [
        {"name": q.name, "title": q.title, "question": q.question, "query": q.bind(q.example)}
        for q in list_queries()
    ]


def render_page(*, allow_update: bool = False) -> bytes:
    """The HTML of the page at ``/``."""
    items = examples()
    listing = "\n".join(
        f'<li><button type="button" data-query="{html.escape(e["name"])}" '
        f'title="{html.escape(e["question"])}">{html.escape(e["title"])}</button></li>'
        for e in items
    )
    data = json.dumps(items, ensure_ascii=False).replace("</", "<\\/")
    mode = (
        "read-write: updates as a POST of application/sparql-update with the server's token"
        if allow_update
        else "read-only"
    )
    return _TEMPLATE.format(items=listing, data=data, mode=mode).encode()
