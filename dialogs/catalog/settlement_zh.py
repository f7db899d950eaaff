"""Chinese texts of auction settlement (notices to winners and bidders) and of the staff's
auction refusals. Keys and placeholders must match ``settlement_en.py``."""

MESSAGES: dict[str, str] = {
    "settlement.won": "号牌助手：恭喜竞得{plate}，成交价{price}，保证金{deposit}已抵价款。请于{deadline}前支付余款{amount}（订单{order}），逾期保证金不予退还。付款：{url}",
    "sms/settlement.won": "号牌助手：您以{price}竞得{plate}，请于{deadline}前付余款{amount}，逾期没收保证金：{url}",
    "settlement.won_issued": "号牌助手：您以{price}竞得{plate}，保证金已抵全款，号牌已登记给车架号{vin}的车辆。",
    # kept for notices queued before the winner got one message (0019): never written now
    "settlement.balance_due": "号牌助手：恭喜竞得{plate}，成交价{price}，保证金{deposit}已抵价款。请于{deadline}前在“我的订单”支付余款{amount}（订单{order}），逾期保证金不予退还。",
    "settlement.balance_issued": "号牌助手：余款{amount}已收到，号牌{plate}已登记给车架号{vin}的车辆。",
    # kept for notices queued before a payment was told in one message: never written now
    "settlement.issued": "号牌助手：余款已付，号牌{plate}已登记给车架号{vin}的车辆。",
    "settlement.given_up": "号牌助手：{plate}的余款订单已取消，号牌退回车管所，保证金{deposit}不予退还。",
    "settlement.forfeited": "号牌助手：{plate}余款未按期支付，保证金{deposit}不予退还，号牌已收回。",
    "settlement.lot_withdrawn": "号牌助手：竞价期“{period}”的号牌{plate}已由车管所撤拍，其余号牌照常竞买。",
    "settlement.lot_withdrawn_last": "号牌助手：竞价期“{period}”的号牌{plate}已由车管所撤拍，本期已无号牌可竞买：到开始时间即结束，已交保证金原路退回。",
    "settlement.period_cancelled": "号牌助手：竞价期“{period}”已取消，已交保证金{deposit}将原路退回。",
    "settlement.period_cancelled_unpaid": "号牌助手：竞价期“{period}”已取消，您的报名和未支付的保证金订单（{deposit}）已一并取消。",
    "settlement.period_cancelled_counter": "号牌助手：竞价期“{period}”已取消，已交保证金{deposit}请到缴款窗口领取。",
    "settlement.refund.lost": "号牌助手：竞价期“{period}”已结束，保证金中未用于价款的{amount}已原路退回。",
    "settlement.refund.lost_counter": "号牌助手：竞价期“{period}”已结束，保证金中未用于价款的{amount}请到缴款窗口领取。",
    # kept for notices queued before the refund was told in one message: never written now
    "settlement.refunded.lost": "号牌助手：竞价保证金中未用于价款的{amount}已原路退回。",
    "settlement.refunded.cancelled": "号牌助手：竞价取消，保证金{amount}已原路退回。",
    "settlement.rescheduled": "号牌助手：竞价期“{period}”改为{starts}开始，报名截止{signup_closes}。",
    "settlement.rescheduled_before_signup": "号牌助手：竞价期“{period}”改为{starts}开始，{signup_opens}起可报名。",
    "settlement.rescheduled_signup_closed": "号牌助手：竞价期“{period}”改为{starts}开始。",
    "settlement.rescheduled_at_start": "号牌助手：竞价期“{period}”改为{starts}开始，开始前均可报名。",
    "error.auction.nothing_to_amend": "没有要修改的内容：请至少给出竞价期一项设置（名称、时间、保证金、加价幅度、倒计时、余款期限）的新值。",
    "error.auction.signup_opened": "本期报名已开始：报名开始时间不能再改，报名截止时间和开拍时间只能推后。请改填更晚的时间，或取消本期后重新发布。",
    "error.auction.terms_fixed": "已有人按本期条件报名，{setting:setting}不能再改。如需修改，请取消本期后重新发布。",
    "error.auction.name_en_invalid": "竞价期英文名为1至{most}个字符：英文字母、数字、空格及 . , ' ( ) / & : # + -（英文短信因此不变贵）。",
    "error.auction.setting_invalid": "竞价期的{setting:setting}{value:given}无效{setting:rule}，请改正后再试。",
    "error.auction.period_unknown": "没有这个竞价期，请先查看竞价期列表。",
    "error.auction.period_started": "竞价期已开始或已结束，不能再更改。",
    "error.auction.lot_unknown": "没有这个拍品，请先查看拍品列表。",
    "error.auction.plate_not_held_back": "{plate}不是保留号牌（在号池中、已被选用或待结算），不能拍卖。",
    "error.auction.plate_in_auction": "{plate}已在另一个拍品中。",
    "error.auction.plate_reserved": "{plate}已被用户预约，将通过预约上拍（请在号牌预约中审核）。",
}
