"""Telegram 渠道的简体中文文本。键和占位符必须与 ``telegram_en.py`` 一致。"""

MESSAGES: dict[str, str] = {
    "telegram.share_contact": "📱 发送我的手机号",
    "telegram.contact_not_own": "这是他人的联系人。请点下方“📱 发送我的手机号”分享您本人的号码，或直接输入手机号。",
    "telegram.text_only": "只能识别文字、按钮和您分享的联系人。当前步骤：",
    "telegram.command.start": "开始：欢迎与主菜单",
    "telegram.command.menu": "主菜单",
    "telegram.command.cancel": "取消当前操作（不保存）",
    "telegram.command.help": "本步骤的帮助",
    "telegram.command.lang": "English / 中文",
}
