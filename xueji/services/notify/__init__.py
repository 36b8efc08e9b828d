"""群机器人提醒: the group robots (企业微信, 钉钉) of schools and townships, each group's digest of waiting work, and
the run of `xueji notify` that sends them."""
