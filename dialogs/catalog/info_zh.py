"""信息查询（办事指南、联系方式、系统公告）的消息目录。键和占位符须与 ``info_en.py`` 一致。"""

MESSAGES: dict[str, str] = {
    "menu.info": "办事指南/公告/联系方式",
    "help.info": "办事指南、各车管所联系方式和系统公告。回复序号查看；返回：上一步；菜单：主菜单。",
    "info.title": "信息查询：",
    "info.guides": "办事指南",
    "info.contacts": "联系方式",
    "info.announcements": "系统公告",
    "info.more": "下一页",
    "info.back": "信息查询",
    "info.pick_guide": "办事指南，回复序号查看：",
    "info.no_guides": "暂无办事指南。",
    "info.article": "{title}\n{body}",
    "info.contacts_title": "联系方式：",
    "info.contact": "{name}\n电话 {phone}\n{address}\n{hours}",
    "info.no_contacts": "暂无联系方式。",
    "info.pick_announcement": "系统公告，回复序号查看：",
    "info.no_announcements": "暂无公告。",
    "info.announcement": "{title}（{when}）\n{body}",
    "info.gone": "该内容已删除或撤回。",
}
