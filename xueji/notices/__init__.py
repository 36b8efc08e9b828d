"""通知书和个案档案 as Word documents: the built-in templates (templates/*.docx, rebuilt from code by
scripts/make_notice_templates.py through xueji.notices.builtin), a county's own templates in the folder named by
XUEJI_NOTICE_TEMPLATES (a file named like a built-in one replaces it), and the filling of their {{占位符}}.

The placeholders a template may use are listed, with what each is filled with, in xueji.rules.notices (its
docstring's table and PLACEHOLDERS); a template naming any other is refused at use with a Chinese message.
"""
