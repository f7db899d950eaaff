"""Chinese texts of the live auction room (the Telegram room message, outbid and result notices)
and the practice auction. Keys and placeholders must match ``room_en.py``."""

MESSAGES: dict[str, str] = {
    "room.screen": (
        "第{position}号拍品 {plate}\n{what}：{price}\n领先：{leader}\n我的出价：{mine}\n"
        "截止：{deadline}（剩{left}秒）\n最近出价：\n{recent}"
    ),
    "room.screen_sold": "第{position}号拍品 {plate}\n已成交：{price}，竞得人 {leader}",
    "room.screen_unsold": "第{position}号拍品 {plate}\n已结束：流拍",
    "room.screen_won": "第{position}号拍品 {plate}\n您已竞得，成交价{price}，后续事项另行通知。",
    "room.starting": "起拍价",
    "room.current": "当前价",
    "room.nobody": "暂无",
    "room.you": "您",
    "room.no_bid": "未出价",
    "room.no_bids": "暂无出价",
    "room.raise": "加价{amount}",
    "room.start_bid": "按起拍价{amount}出价",
    "room.outbid": "第{position}号拍品{plate}：您的出价已被超过，当前价{price}，领先{leader}。回复“出价 {step}”加价。",
    "telegram/room.outbid": "第{position}号拍品{plate}：您的出价已被超过，当前价{price}，领先{leader}。",
    "room.maximum_exceeded": "第{position}号拍品{plate}：他人以{price}领先，您的自动出价上限{maximum}已不足以应价，自动出价已停止。",
    # kept for notices queued before the winner got one message (0019): never written now
    "room.won": "第{position}号拍品{plate}：恭喜，您以{price}竞得。请留意尾款通知。",
    "room.sold": "第{position}号拍品{plate}已成交：{price}，竞得人{leader}。",
    "room.unsold": "第{position}号拍品{plate}已结束：流拍。",
    # the practice auction
    "menu.practice_auction": "模拟竞买",
    "practice_auction.banner": "【模拟竞买，不保存】",
    "practice_auction.intro": "与模拟对手竞买一块练习号牌：倒计时较短，结果不保存。",
    "practice_auction.refresh": "刷新",
    "practice_auction.leave": "离开",
    "practice_auction.again": "再练一次",
    "practice_auction.accepted": "出价成功：{amount}，您领先。",
    "practice_auction.rival_bid": "对手 {rival} 出价{amount}，您的出价已被超过。",
    "practice_auction.too_late": "已过截止时间，出价无效。",
    "practice_auction.won": "模拟结果：您以{price}竞得（练习，不生效）。",
    "practice_auction.lost": "模拟结果：对手 {rival} 以{price}竞得。",
    "practice_auction.unsold": "模拟结果：无人出价，流拍。",
    "practice_auction.hint": "请选择加价金额，或选“刷新”查看剩余时间。",
    "practice_auction.has_price": "已有人出价，现价{price}，请选择加价。",
    "practice_auction.not_allowed": "加价金额只能是¥1,000、¥2,000或¥3,000。",
    "practice_auction.already_leading": "您已领先，不能给自己加价。",
    "sms/room.screen": "第{position}号{plate} {what}{price} 领先{leader} 我的{mine} {deadline}截止(剩{left}秒)",
    "help.practice_auction": "模拟竞买与正式竞买的界面相同：每次加价一个档位，截止前最后出价者竞得。不保存任何内容。菜单：主菜单。",
}
