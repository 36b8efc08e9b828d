"""The sign-in page: plain HTML (no script), so it loads before the app's websocket and a phone's password manager
fills it. Every value placed in it is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

_STYLE = """
*{box-sizing:border-box}
body{margin:0;font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",sans-serif;
background:#f6f7f9;color:#1f2933}
main{max-width:26rem;margin:0 auto;padding:2rem 1rem}
h1{font-size:1.6rem;margin:0 0 1rem}
p{font-size:.9rem;line-height:1.5;color:#52606d;margin:.25rem 0}
form{background:#fff;border:1px solid #d9e2ec;border-radius:.6rem;padding:1.25rem;margin:1rem 0}
label{display:block;font-weight:600;margin:.75rem 0 .35rem}
input{width:100%;min-height:48px;font-size:1rem;padding:.5rem .75rem;border:1px solid #9aa5b1;border-radius:.4rem}
button{width:100%;min-height:48px;margin-top:1.25rem;font-size:1.05rem;font-weight:600;color:#fff;
background:#d9363e;border:0;border-radius:.4rem;cursor:pointer}
.note{padding:.6rem .8rem;border-radius:.4rem;margin:1rem 0;font-size:.95rem}
.error{background:#fde8e8;color:#9b1c1c}
.demo{background:#fff1c2;color:#7a4100;border:1px solid #e8a317;font-weight:600}
table{border-collapse:collapse;width:100%;font-size:.9rem;background:#fff}
th,td{border:1px solid #d9e2ec;padding:.35rem .5rem;text-align:left}
"""


def render(
    *,
    next_path: str,
    rules: Sequence[str],
    error: str | None = None,
    username: str = "",
    demo: tuple[str, Sequence[tuple[str, str, str]]] | None = None,
) -> str:
    """The page; demo is (password, [(account, name, role)]) on a demo database only."""
    parts = [
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # nginx sends Referrer-Policy: no-referrer; within the site the form's post still names its origin
        '<meta name="referrer" content="same-origin">',
        f"<title>登录 · 学籍 · 控辍保学</title><style>{_STYLE}</style></head><body><main>",
    ]
    if demo is not None:
        parts.append('<div class="note demo" role="note">演示数据 · 虚构的县区和学生,不要录入真实信息</div>')
    parts.append("<h1>学籍 · 控辍保学</h1>")
    parts.extend(f"<p>{escape(rule)}</p>" for rule in rules)
    if error:
        parts.append(f'<div class="note error" role="alert">{escape(error)}</div>')
    parts.append(
        '<form method="post" action="/signin" autocomplete="on">'
        f'<input type="hidden" name="next" value="{escape(next_path)}">'
        '<label for="username">账号</label>'
        f'<input id="username" name="username" value="{escape(username)}" autocomplete="username" '
        'autocapitalize="none" spellcheck="false" required maxlength="50">'
        '<label for="password">密码</label>'
        '<input id="password" name="password" type="password" autocomplete="current-password" required '
        'maxlength="200">'
        '<button type="submit">登录</button></form>'
    )
    if demo is not None:
        password, accounts = demo
        rows = "".join(
            f"<tr><td>{escape(a)}</td><td>{escape(n)}</td><td>{escape(r)}</td></tr>" for a, n, r in accounts
        )
        parts.append(
            f"<h2>演示账号</h2><p>所有演示账号的密码:<code>{escape(password)}</code></p>"
            f"<table><thead><tr><th>账号</th><th>姓名</th><th>角色</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    parts.append("</main></body></html>")
    return "".join(parts)
