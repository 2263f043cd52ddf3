//! Everyday spending: how many purchases a day brings (the calendar's weekly
//! and yearly rhythm), what they are, where they happen and whether they go on
//! the credit card or the current account.

use super::*;

#[rustfmt::skip]
pub(super) const GROCERIES: &[&str] = &[
    "永辉超市", "盒马鲜生", "沃尔玛", "华润万家", "物美超市", "大润发", "美团买菜", "叮咚买菜", "钱大妈", "社区菜市场", "朴朴超市",
];

#[rustfmt::skip]
pub(super) const DINING: &[&str] = &[
    "美团外卖", "饿了么", "海底捞", "肯德基", "麦当劳", "星巴克", "瑞幸咖啡", "西贝莜面村", "喜茶", "老乡鸡", "外婆家", "蜜雪冰城",
];

#[rustfmt::skip]
pub(super) const SHOPPING: &[&str] = &[
    "淘宝", "天猫", "京东", "拼多多", "唯品会", "抖音商城", "优衣库", "苏宁易购", "万达广场", "银泰百货", "小米之家",
];

#[rustfmt::skip]
pub(super) const TRAVEL: &[&str] = &[
    "12306铁路客票", "携程旅行", "去哪儿网", "飞猪旅行", "中国国际航空", "东方航空", "南方航空", "滴滴出行", "汉庭酒店", "如家酒店", "亚朵酒店",
];

#[rustfmt::skip]
pub(super) const CARD_SHOPS: &[&str] = &[
    "中石化加油站", "中石油加油站", "万达影城", "屈臣氏", "名创优品", "全家便利店", "罗森便利店", "7-Eleven", "苹果零售店", "宜家家居",
];

#[rustfmt::skip]
pub(super) const UTILITIES: &[&str] = &[
    "国家电网", "南方电网", "自来水公司", "燃气公司", "中国移动", "中国联通", "中国电信", "物业管理费",
];

#[rustfmt::skip]
pub(super) const HEALTHCARE: &[&str] = &[
    "市第一人民医院", "市中医院", "妇幼保健院", "大参林药房", "老百姓大药房", "益丰大药房", "口腔诊所", "体检中心",
];

#[rustfmt::skip]
pub(super) const EDUCATION: &[&str] = &[
    "学而思", "新东方", "猿辅导", "学校学费", "少年宫", "驾校", "英语培训中心",
];

#[rustfmt::skip]
pub(super) const WALLETS: &[&str] = &[
    "支付宝", "财付通", "微信零钱", "云闪付",
];

#[rustfmt::skip]
pub(super) const ATMS: &[&str] = &[
    "本行ATM", "他行ATM", "柜台取现",
];

#[rustfmt::skip]
pub(super) const RED_ENVELOPE_YUAN: &[i64] = &[
    66, 88, 100, 168, 188, 200, 288, 500, 666, 888, 1_000, 2_000,
];

impl<R: Rng> Ledger<'_, '_, R> {
    pub(super) fn spend_day(&mut self, d: usize) {
        let world = self.world;
        let day = &world.cal.days[d];
        let lambda = self.lambda * f64::from(day.intensity) * self.spend_factor(d);
        let count = poisson(self.rng, lambda);
        for _ in 0..count {
            let u: f32 = self.rng.random();
            let cat = day.pick(u);
            self.spend(d, cat);
        }
        // The young receive red envelopes at Spring Festival.
        if day.holiday == crate::synth::calendar::Holiday::SpringFestival
            && self.person.age < 30
            && !self.facts.dormant
            && self.rng.random_bool(0.12)
        {
            let amount = yuan(*pick(self.rng, RED_ENVELOPE_YUAN) as f64);
            self.inflow(
                d,
                amount,
                Channel::Wechat,
                TxnCategory::TransferIn,
                "微信红包",
            );
        }
    }

    pub(super) fn spend(&mut self, d: usize, cat: Spend) {
        let sigma = 0.6;
        let base = cat.mean_yuan() * 100.0 * self.ticket_scale;
        let (category, channel, cp, amount, card_ok): (TxnCategory, Channel, &str, i64, bool) =
            match cat {
                Spend::Groceries => (
                    TxnCategory::Groceries,
                    self.channel_pos(),
                    *pick(self.rng, GROCERIES),
                    (base * lognormal(self.rng, sigma)) as i64,
                    true,
                ),
                Spend::Dining => (
                    TxnCategory::Dining,
                    self.channel_pos(),
                    *pick(self.rng, DINING),
                    (base * lognormal(self.rng, sigma)) as i64,
                    true,
                ),
                Spend::Shopping => (
                    TxnCategory::Shopping,
                    self.channel_online(),
                    *pick(self.rng, SHOPPING),
                    (base * lognormal(self.rng, 0.8)) as i64,
                    true,
                ),
                Spend::Travel => (
                    TxnCategory::Travel,
                    self.channel_online(),
                    *pick(self.rng, TRAVEL),
                    (base * lognormal(self.rng, 0.7)) as i64,
                    true,
                ),
                Spend::CardPurchase => (
                    TxnCategory::CardPurchase,
                    Channel::Pos,
                    *pick(self.rng, CARD_SHOPS),
                    (base * lognormal(self.rng, sigma)) as i64,
                    true,
                ),
                Spend::CashWithdrawal => {
                    let f = if self.troubled(d) { 1.4 } else { 1.0 };
                    let a = round_yuan((base * f * lognormal(self.rng, 0.5)) as i64, 100);
                    let cp = *pick(self.rng, ATMS);
                    let ch = if cp == "柜台取现"
                        || (self.person.age >= 70 && self.rng.random_bool(0.5))
                    {
                        Channel::Branch
                    } else {
                        Channel::Atm
                    };
                    (TxnCategory::CashWithdrawal, ch, cp, a, false)
                }
                Spend::TransferOut => {
                    let a = round_yuan((base * lognormal(self.rng, 0.7)) as i64, 1);
                    let ch = if self.rng.random_bool(0.6) {
                        Channel::Mobile
                    } else {
                        Channel::Wechat
                    };
                    (
                        TxnCategory::TransferOut,
                        ch,
                        *pick(self.rng, WALLETS),
                        a,
                        false,
                    )
                }
                Spend::Utilities => (
                    TxnCategory::Utilities,
                    Channel::Mobile,
                    *pick(self.rng, UTILITIES),
                    (base * lognormal(self.rng, 0.5)) as i64,
                    false,
                ),
                Spend::Healthcare => (
                    TxnCategory::Healthcare,
                    Channel::Pos,
                    *pick(self.rng, HEALTHCARE),
                    (base * lognormal(self.rng, 0.9)) as i64,
                    true,
                ),
                Spend::Education => (
                    TxnCategory::Education,
                    Channel::Online,
                    *pick(self.rng, EDUCATION),
                    round_yuan((base * lognormal(self.rng, 0.6)) as i64, 10),
                    true,
                ),
                Spend::RedEnvelope => {
                    let mult = if self.person.age >= 50 { 2 } else { 1 };
                    let a = yuan((*pick(self.rng, RED_ENVELOPE_YUAN) * mult) as f64);
                    (
                        TxnCategory::TransferOut,
                        Channel::Wechat,
                        "微信红包",
                        a,
                        false,
                    )
                }
            };
        let amount = amount.max(100);
        // On the credit card when there is one and room on it.
        if card_ok {
            if let Some(c) = &self.card {
                let acct = c.acct;
                let share = if self.troubled(d) {
                    0.9
                } else {
                    self.card_share
                };
                let usable = self.is_open(acct, d)
                    && !(self.leaving(d) && self.facts.move_day.is_some_and(|m| d + 20 >= m))
                    && self.accounts[acct].balance - amount
                        >= -self.accounts[acct].limit.unwrap_or(0);
                if usable && self.rng.random_bool(share) {
                    self.post(d, acct, -amount, channel, category, cp);
                    return;
                }
            }
        }
        if self.troubled(d) {
            // Spends what is left.
            let amount = amount.min(self.accounts[0].balance);
            if amount >= 100 {
                self.post(d, 0, -amount, channel, category, cp);
            }
            return;
        }
        // Keeps next month's instalments in reserve; tops up from savings if needed, else goes without.
        let reserve = self.reserve(d);
        if self.accounts[0].balance - amount < reserve {
            self.ensure_funds(d, amount + reserve, false);
        }
        if self.accounts[0].balance - amount >= reserve {
            self.post(d, 0, -amount, channel, category, cp);
        }
    }

    pub(super) fn channel_pos(&mut self) -> Channel {
        let u: f64 = self.rng.random();
        if self.person.age >= 70 {
            return if u < 0.8 {
                Channel::Pos
            } else {
                Channel::Mobile
            };
        }
        if u < 0.45 {
            Channel::Pos
        } else if u < 0.8 {
            Channel::Mobile
        } else {
            Channel::Wechat
        }
    }

    pub(super) fn channel_online(&mut self) -> Channel {
        let u: f64 = self.rng.random();
        if u < 0.5 {
            Channel::Online
        } else if u < 0.85 {
            Channel::Mobile
        } else {
            Channel::Pos
        }
    }
}
