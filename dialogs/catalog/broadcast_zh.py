"""群发通知：收件人收到的内容、拒绝原因、Telegram 工作人员命令（中文）。"""

MESSAGES = {
    "broadcast.body": "{text}",
    "error.broadcast.not_found": "找不到该群发。",
    "error.broadcast.text_invalid": "{language} 文本为空或超过 {maximum} 字：请填写两种文本后重试。",
    "error.broadcast.audience_invalid": "收件范围缺少{reason}（有效的地区、拍卖期次或号码清单）。",
    "error.broadcast.numbers_invalid": "有 {count} 行不是手机号码（第 {lines} 行）：请改正清单后重试，未发送任何消息。",
    "error.broadcast.wrong_state": "无法操作：该群发当前为 {state}。",
    "error.broadcast.send_time_passed": "该时间已过：请给出稍后的时间，或立即发送。",
    "broadcast.staff_only": "此命令仅限车管所工作人员使用。",
    "broadcast.usage": "请在命令后写群发内容：第一行写收件范围和渠道（everyone、region 4405、bidders 3 或 unfinished-orders；再写 telegram-else-sms、sms 或 telegram），然后是中文文本、一行 ---、英文文本。",
    "broadcast.preview": "群发 #{id}（{audience}）：共 {recipients} 人，Telegram {telegram} 人，短信 {sms} 人（{segments} 条短信计费）。不发送：退订 {opted_out}，已屏蔽 {blocked}，无 Telegram {unreachable}。",
    "broadcast.send_now": "立即发送",
    "broadcast.discard": "放弃",
    "broadcast.started": "群发 #{id} 正在发送。发送 /broadcasts 查看进度。",
    "broadcast.discarded": "群发 #{id} 已放弃，未发送任何消息。",
    "broadcast.none": "还没有群发。",
    "broadcast.line": "#{id} {status}：已发送 {sent}/{total}，已送达 {delivered}，失败 {failed}，退订 {opted_out}，剩余 {left}。",
    "broadcast.stats": "今天（{day}，北京时间）：注册 {registrations}，预选 {preselections}，售出 {sales}，出价 {bids}。",
}
