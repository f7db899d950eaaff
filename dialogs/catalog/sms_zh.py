"""短信渠道的消息（简体中文）。键和 ``{占位符}`` 必须与 ``sms_en.py`` 一致。"""

MESSAGES: dict[str, str] = {
    "sms.more": "回复N看更多",
    "sms.practice": "【练习】",
    "sms.help": "号牌助手：短信办理车管所号牌业务。回复?看本步说明，回复退订不再接收短信。",
    "sms.stopped": "已退订，我们不再给您发短信（含验证码）。回复START恢复。",
    "sms.started": "已恢复接收短信。",
    "sms.busy": "号牌助手暂时繁忙，请稍后重发刚才的短信。",
}
