"""号牌预约的中文文本（SPEC §8）。键和占位符须与 ``reservation_en.py`` 一致。"""

_ENTRY = "{plate}（车架号尾号{vin}）：{state}"
_COUNTER = "预约保证金{amount:yuan}在窗口支付，请到窗口领取退款。"

MESSAGES: dict[str, str] = {
    "menu.reserve": "号牌预约",
    "reservation.home": (
        "号牌预约：输入想要的号牌后五位和车辆识别代号，管理员审核通过并支付预约保证金后，"
        "号牌进入下一期竞买。"
    ),
    "reservation.start": "预约号牌",
    "reservation.history": "历史预约",
    "reservation.no_office": "没有您可以预约号牌的车管所。",
    "reservation.ask_office": "请选择车管所：",
    "reservation.ask_number": "请输入想预约的{office}号牌后五位（如26666、AC123）：",
    "reservation.ask_vin": "预约{plate}。请输入车辆识别代号（17位，见合格证）：",
    "reservation.sent": "预约已提交：{plate}，等待管理员审核，结果会以消息通知您。",
    "reservation.history.none": "您还没有预约。",
    "reservation.history.title": "历史预约：",
    "reservation.entry": _ENTRY,
    "reservation.entry.rejected": _ENTRY + "，原因：{reason}",
    "reservation.entry.approved": _ENTRY + "，请于{deadline}前支付预约保证金{amount:yuan}",
    "reservation.entry.placed": _ENTRY + "：{period}，{starts}开拍",
    "reservation.pay": "支付{plate}预约保证金",
    "reservation.state.pending": "待审核",
    "reservation.state.rejected": "未通过",
    "reservation.state.approved": "已通过",
    "reservation.state.lapsed": "保证金逾期未付，已失效",
    "reservation.state.paid": "已付保证金，等待下一期竞买",
    "reservation.state.placed": "已进入竞买",
    "reservation.state.won": "已由您竞得，保证金退回",
    "reservation.state.lost": "已由他人竞得，保证金退回",
    "reservation.state.unsold": "无人出价，保证金退回",
    "reservation.help": (
        "号牌预约：管理员审核通过后，您会收到支付预约保证金的消息；付款后号牌进入下一期竞买。"
        "竞买须与他人一样报名并交竞买保证金。竞买结束后预约保证金退回。"
    ),
    "reservation.help.number": "号牌后五位：数字和字母（不含I、O），最多2个字母，如26666、AC123。",
    "error.reservation.number_pooled": (
        "{plate}在选号号池中，不能预约（新车可在“新车预选号牌”中选它）。请输入其他号码。"
    ),
    "error.reservation.number_taken": "{plate}已被选用，不能预约。请输入其他号码。",
    "error.reservation.number_for_sale": "{plate}正在按固定价格出售，不能预约。请输入其他号码。",
    "error.reservation.number_in_auction": "{plate}已在竞买中，可报名竞买。请输入其他号码。",
    "error.reservation.number_reserved": "{plate}已被他人预约。请输入其他号码。",
    "error.reservation.already_yours": "您已预约{plate}，可在“历史预约”中查看。请输入其他号码。",
    "error.reservation.unknown": "没有该预约。",
    "error.reservation.not_pending": "该预约状态为{state}，只能审核待审核的预约。",
    "error.reservation.reason_required": "驳回须说明原因。",
    "error.reservation.amount_invalid": "金额无效（{setting}）：请给出正数金额。",
    "reservation.notice.approved": (
        "号牌助手：您预约的{plate}已审核通过。请于{deadline}前支付预约保证金{amount:yuan}：{url}"
    ),
    "reservation.notice.rejected": "号牌助手：您预约的{plate}未通过审核，原因：{reason}",
    "reservation.notice.placed": (
        "号牌助手：{plate}进入{period}竞买，{signup_closes}前报名，{starts}开拍。"
    ),
    "reservation.notice.placed_at_start": (
        "号牌助手：{plate}进入{period}竞买，{starts}开拍，开拍前均可报名。"
    ),
    "reservation.notice.placed_before_signup": (
        "号牌助手：{plate}进入{period}竞买，{signup_opens}起报名，{starts}开拍。"
    ),
    "reservation.notice.paid_placed_before_signup": (
        "号牌助手：保证金{amount:yuan}已收到，{plate}进入{period}竞买，{signup_opens}起可报名。"
    ),
    "reservation.notice.waiting": (
        "号牌助手：已收到{plate}的预约保证金，号牌将进入下一期竞买，届时通知您。"
    ),
    "reservation.notice.paid_waiting": (
        "号牌助手：已收到{plate}的预约保证金{amount:yuan}，号牌将进入下一期竞买，届时通知您。"
    ),
    "reservation.notice.paid_placed": (
        "号牌助手：保证金{amount:yuan}已收到，{plate}进入{period}，{signup_closes}前报名，"
        "{starts}开拍。"
    ),
    "reservation.notice.paid_placed_at_start": (
        "号牌助手：预约保证金{amount:yuan}已收到，{plate}已进入{period}竞买，{starts}开拍前可报名。"
    ),
    "reservation.notice.lapsed": "号牌助手：{plate}的预约保证金逾期未付，预约已失效。",
    "reservation.notice.lapsed_cancelled": "号牌助手：{plate}的预约保证金订单已取消，预约已失效。",
    "reservation.notice.won": "号牌助手：您竞得了{plate}。预约保证金{amount:yuan}已退回。",
    "reservation.notice.lost": "号牌助手：{plate}已由他人竞得，预约保证金{amount:yuan}已退回。",
    "reservation.notice.unsold": "号牌助手：{plate}无人出价。预约保证金{amount:yuan}已退回。",
    "reservation.notice.won_counter": "号牌助手：您竞得了{plate}。" + _COUNTER,
    "reservation.notice.lost_counter": "号牌助手：{plate}已由他人竞得。" + _COUNTER,
    "reservation.notice.unsold_counter": "号牌助手：{plate}无人出价。" + _COUNTER,
}
