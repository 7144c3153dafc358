<?xml version="1.0" encoding="UTF-8"?>
<!-- Shows an Atom or RSS feed of feedgen-dw as a readable page when opened in a browser.
     Feed readers ignore it. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:atom="http://www.w3.org/2005/Atom" exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="UTF-8" indent="yes"/>
  <xsl:template match="/">
    <html>
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="atom:feed/atom:title | rss/channel/title"/></title>
        <style>
          body{font:17px/1.55 Georgia,serif;max-width:46rem;margin:2rem auto;padding:0 1rem;
               color:#1d1d1f;background:#fdfdfb}
          header{border-bottom:2px solid #05a;margin-bottom:1.5rem}
          h1{font:700 1.6rem/1.2 system-ui,sans-serif;margin:.2rem 0}
          .note{font:14px system-ui,sans-serif;color:#555}
          article{border-bottom:1px solid #ddd;padding:1rem 0}
          article h2{font:600 1.2rem/1.3 system-ui,sans-serif;margin:.2rem 0}
          article h2 a{color:#05a;text-decoration:none}
          time{font:13px system-ui,sans-serif;color:#666}
          img{max-width:100%;height:auto}
          figcaption{font-size:14px;color:#555}
        </style>
      </head>
      <body>
        <xsl:apply-templates select="atom:feed | rss/channel"/>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="atom:feed">
    <header>
      <h1><xsl:value-of select="atom:title"/></h1>
      <p class="note">This is a feed: copy this page's address into your feed reader to
        subscribe. Source: <a href="{atom:link[@rel='alternate']/@href}">the article</a>.</p>
    </header>
    <xsl:for-each select="atom:entry">
      <article>
        <time><xsl:value-of select="translate(substring(atom:published, 1, 16), 'T', ' ')"/> UTC</time>
        <h2><a href="{atom:link/@href}"><xsl:value-of select="atom:title"/></a></h2>
        <div><xsl:value-of select="atom:content" disable-output-escaping="yes"/></div>
      </article>
    </xsl:for-each>
  </xsl:template>

  <xsl:template match="rss/channel">
    <header>
      <h1><xsl:value-of select="title"/></h1>
      <p class="note">This is a feed: copy this page's address into your feed reader to
        subscribe. Source: <a href="{link}">the article</a>.</p>
    </header>
    <xsl:for-each select="item">
      <article>
        <time><xsl:value-of select="pubDate"/></time>
        <h2><a href="{link}"><xsl:value-of select="title"/></a></h2>
        <div><xsl:value-of select="description" disable-output-escaping="yes"/></div>
      </article>
    </xsl:for-each>
  </xsl:template>
</xsl:stylesheet>
