"""短信渠道的消息（简体中文）。键和 ``{占位符}`` 必须与 ``sms_en.py`` 一致。"""

MESSAGES: dict[str, str] = {
    "sms.more": "回复N看更多",
    "sms.practice": "【练习】",
    "sms.help": "号牌助手：短信办理车管所号牌业务。回复?看本步说明，回复退订不再接收短信。",
    "sms.stopped": "已退订，我们不再给您发短信（含验证码）。回复START恢复。",
    "sms.started": "已恢复接收短信。",
    "sms.busy": "号牌助手暂时繁忙，请稍后重发刚才的短信。",
    # Shorter wording of other areas' texts for SMS (and the console): every character counts.
    "sms/welcome": "欢迎使用号牌助手。",
    "sms/reg.summary_person": "核对：{name}，身份证{id_number}，{region}，{address}，{category}",
    "sms/reg.summary_unit": "核对：{name}，代码{unit_code}，{region}，{address}，法人{rep_name}，身份证{id_number}",
    "sms/reg.registered": "注册成功，{name}！",
    "sms/pre.intro": "预选分两步：填车辆信息，验证后选号；须按期到车管所确认，逾期作废并禁选2年。",
    "sms/pre.office.info": "{office} {name}，选号时间{opens}-{closes}，{address}",
    "sms/pre.business": "{office}业务须知：{notice}",
    "sms/pre.ask_vin": "请输入车辆识别代号（17位），可空格后接合格证编号。在哪找？回复?",
    "sms/pre.ask_cert": "请输入合格证编号（进口车填进口证明书号）。在哪找？回复?",
    "sms/pre.notice": "车辆尾号{vin}：还可自编{self}个号牌，换一批还剩{batches}次。选中后{days}个工作日内到车管所确认。",
    "sms/pre.batch": "保留{minutes}分钟，回复序号（{prefix}）：",
    "sms/pre.result": (
        "预选成功：{plate}，{date}（{weekday}）24时前有效，请到{name}（{address}）确认，带身份证明、合格证、发票、"
        "交强险保单，逾期作废且2年内不能网上选号。"
    ),
    "sms/reservation.sent": "已提交：{plate}，管理员审核后通知您。",
}
