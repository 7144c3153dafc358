"""DW live blogs (`/live-<id>`) for the tests and the demo, in the state shape public
extractors read (`window.__APP_STATE__["/graph-api/<lang>/content/liveblog/<id>"]`)."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class DemoPost:
    """A post: its id never changes, its title may be empty."""

    post_id: int
    title: str
    paragraphs: tuple[str, ...]
    time: str  # ISO 8601 with zone
    author: str = "DW-Redaktion"
    image: tuple[int, str] | None = None  # (image id, caption)


@dataclass(frozen=True)
class DemoLiveBlog:
    """One published state of a live blog; posts newest first."""

    blog_id: str
    slug: str
    title: str
    posts: tuple[DemoPost, ...]
    lang: str = "de"

    @property
    def path(self) -> str:
        """The blog's path on the site."""
        return f"/{self.lang}/{self.slug}/live-{self.blog_id}"


def _post_html(post: DemoPost, noise: int) -> str:
    parts = [f"<p>{html.escape(p)}</p>" for p in post.paragraphs]
    if noise % 2:
        parts = [p.replace(" ", "&nbsp;", 1) for p in parts]
    if post.image:
        image_id, caption = post.image
        parts.insert(1, (
            f'<figure class="placeholder-image"><img data-url="https://static.dw.com/image/'
            f'{image_id}_${{formatId}}.jpg" alt="{html.escape(caption)}"><figcaption>'
            f"{html.escape(caption)}</figcaption></figure>"))
    return "".join(parts)


def render_live_page(blog: DemoLiveBlog, base_url: str, noise: int = 0,
                     state: bool = True) -> str:
    """The blog's page: posts rendered in HTML, and the state unless `state` is False."""
    canonical = base_url.rstrip("/") + blog.path
    content = {
        "id": int(blog.blog_id), "title": blog.title, "canonicalUrl": canonical,
        "namedUrl": blog.path, "teaser": "Alle Entwicklungen im Ticker",
        "firstPublicationDate": "2026-11-24T05:00:00.000Z",
        "lastModifiedDate": blog.posts[0].time if blog.posts else None,
        "posts": [
            {"id": p.post_id, "title": p.title, "text": _post_html(p, noise),
             "contentDate": p.time, "localizedContentDate": p.time[11:16],
             "persons": [{"fullName": p.author}],
             "contentLinks": [{"targetId": p.image[0], "description": p.image[1]}]
             if p.image else []}
            for p in blog.posts
        ],
    }
    app_state = {f"/graph-api/{blog.lang}/content/liveblog/{blog.blog_id}":
                 {"data": {"content": content}}}
    script = ("<script>window.__APP_STATE__=" + json.dumps(app_state, ensure_ascii=False)
              .replace("</", "<\\/") + ";</script>") if state else ""
    posts = "".join(
        f'<article id="post-{p.post_id}" class="sc-{noise}x post"><header>'
        + (f"<h2>{html.escape(p.title)}</h2>" if p.title else "")
        + f'<time datetime="{p.time}">{p.time[11:16]}</time>'
        f'<span class="author">{html.escape(p.author)}</span></header>'
        f'<div class="rich-text">{_post_html(p, noise)}</div></article>'
        for p in blog.posts
    )
    return (f'<!DOCTYPE html><html lang="{blog.lang}"><head><meta charset="utf-8">'
            f"<title>{html.escape(blog.title)} – DW – 24.11.2026</title>"
            f'<link rel="canonical" href="{canonical}">'
            f'<meta property="og:site_name" content="dw.com"></head><body><main>'
            f"<h1>{html.escape(blog.title)}</h1><p>vor {noise + 1} Minuten</p>{posts}</main>"
            f"{script}</body></html>")
