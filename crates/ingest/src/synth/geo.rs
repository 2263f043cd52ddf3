//! Where the synthetic bank's customers live: real Chinese cities with their
//! real 6-digit administrative division codes (GB/T 2260), a city tier that
//! drives incomes, a weight roughly proportional to urban population, and one
//! branch per listed district.

use rand::Rng;

/// A district: its GB/T 2260 code and name.
#[derive(Debug, Clone, Copy)]
pub struct District {
    pub code: u32,
    pub name: &'static str,
}

/// A city the bank operates in.
#[derive(Debug, Clone, Copy)]
pub struct City {
    pub name: &'static str,
    pub province: &'static str,
    /// Two- or three-letter abbreviation used in branch codes.
    pub abbr: &'static str,
    /// 1 = first tier, 2 = new first / strong second tier, 3 = others.
    pub tier: u8,
    /// Relative share of customers (≈ urban population in millions).
    pub weight: f64,
    pub districts: &'static [District],
}

const fn d(code: u32, name: &'static str) -> District {
    District { code, name }
}

#[rustfmt::skip]
pub const CITIES: &[City] = &[
    City { name: "上海", province: "上海市", abbr: "SH", tier: 1, weight: 24.9, districts: &[d(310115, "浦东新区"), d(310101, "黄浦区"), d(310104, "徐汇区"), d(310112, "闵行区")] },
    City { name: "北京", province: "北京市", abbr: "BJ", tier: 1, weight: 21.8, districts: &[d(110105, "朝阳区"), d(110108, "海淀区"), d(110101, "东城区"), d(110102, "西城区"), d(110106, "丰台区")] },
    City { name: "深圳", province: "广东省", abbr: "SZ", tier: 1, weight: 17.7, districts: &[d(440305, "南山区"), d(440304, "福田区"), d(440303, "罗湖区"), d(440306, "宝安区")] },
    City { name: "广州", province: "广东省", abbr: "GZ", tier: 1, weight: 18.8, districts: &[d(440106, "天河区"), d(440104, "越秀区"), d(440105, "海珠区"), d(440103, "荔湾区")] },
    City { name: "成都", province: "四川省", abbr: "CD", tier: 2, weight: 21.0, districts: &[d(510107, "武侯区"), d(510104, "锦江区"), d(510105, "青羊区")] },
    City { name: "重庆", province: "重庆市", abbr: "CQ", tier: 2, weight: 16.0, districts: &[d(500103, "渝中区"), d(500105, "江北区"), d(500106, "沙坪坝区")] },
    City { name: "天津", province: "天津市", abbr: "TJ", tier: 2, weight: 13.7, districts: &[d(120101, "和平区"), d(120103, "河西区"), d(120116, "滨海新区")] },
    City { name: "武汉", province: "湖北省", abbr: "WH", tier: 2, weight: 13.7, districts: &[d(420106, "武昌区"), d(420102, "江岸区"), d(420111, "洪山区")] },
    City { name: "西安", province: "陕西省", abbr: "XA", tier: 2, weight: 13.0, districts: &[d(610113, "雁塔区"), d(610103, "碑林区"), d(610102, "新城区")] },
    City { name: "杭州", province: "浙江省", abbr: "HZ", tier: 2, weight: 12.5, districts: &[d(330106, "西湖区"), d(330102, "上城区"), d(330108, "滨江区")] },
    City { name: "苏州", province: "江苏省", abbr: "SU", tier: 2, weight: 12.9, districts: &[d(320508, "姑苏区"), d(320505, "虎丘区"), d(320506, "吴中区")] },
    City { name: "郑州", province: "河南省", abbr: "ZZ", tier: 2, weight: 12.8, districts: &[d(410105, "金水区"), d(410102, "中原区")] },
    City { name: "南京", province: "江苏省", abbr: "NJ", tier: 2, weight: 9.5, districts: &[d(320106, "鼓楼区"), d(320102, "玄武区"), d(320104, "秦淮区")] },
    City { name: "长沙", province: "湖南省", abbr: "CS", tier: 2, weight: 10.4, districts: &[d(430102, "芙蓉区"), d(430104, "岳麓区")] },
    City { name: "东莞", province: "广东省", abbr: "DG", tier: 2, weight: 10.5, districts: &[d(441900, "东莞市区")] },
    City { name: "青岛", province: "山东省", abbr: "QD", tier: 2, weight: 10.3, districts: &[d(370202, "市南区"), d(370203, "市北区")] },
    City { name: "宁波", province: "浙江省", abbr: "NB", tier: 2, weight: 9.6, districts: &[d(330212, "鄞州区"), d(330203, "海曙区")] },
    City { name: "合肥", province: "安徽省", abbr: "HF", tier: 2, weight: 9.6, districts: &[d(340104, "蜀山区"), d(340102, "瑶海区")] },
    City { name: "佛山", province: "广东省", abbr: "FS", tier: 2, weight: 9.6, districts: &[d(440604, "禅城区"), d(440606, "顺德区")] },
    City { name: "沈阳", province: "辽宁省", abbr: "SY", tier: 3, weight: 9.1, districts: &[d(210103, "沈河区"), d(210102, "和平区")] },
    City { name: "济南", province: "山东省", abbr: "JN", tier: 3, weight: 9.4, districts: &[d(370102, "历下区"), d(370103, "市中区")] },
    City { name: "昆明", province: "云南省", abbr: "KM", tier: 3, weight: 8.6, districts: &[d(530102, "五华区"), d(530103, "盘龙区")] },
    City { name: "哈尔滨", province: "黑龙江省", abbr: "HEB", tier: 3, weight: 9.9, districts: &[d(230103, "南岗区"), d(230102, "道里区")] },
    City { name: "福州", province: "福建省", abbr: "FZ", tier: 3, weight: 8.4, districts: &[d(350102, "鼓楼区"), d(350104, "仓山区")] },
    City { name: "厦门", province: "福建省", abbr: "XM", tier: 3, weight: 5.3, districts: &[d(350203, "思明区"), d(350206, "湖里区")] },
    City { name: "大连", province: "辽宁省", abbr: "DL", tier: 3, weight: 7.5, districts: &[d(210202, "中山区"), d(210204, "沙河口区")] },
    City { name: "石家庄", province: "河北省", abbr: "SJZ", tier: 3, weight: 11.0, districts: &[d(130102, "长安区"), d(130104, "桥西区")] },
    City { name: "长春", province: "吉林省", abbr: "CC", tier: 3, weight: 9.0, districts: &[d(220102, "南关区"), d(220104, "朝阳区")] },
    City { name: "南宁", province: "广西壮族自治区", abbr: "NN", tier: 3, weight: 8.9, districts: &[d(450103, "青秀区"), d(450102, "兴宁区")] },
    City { name: "南昌", province: "江西省", abbr: "NC", tier: 3, weight: 6.5, districts: &[d(360102, "东湖区"), d(360103, "西湖区")] },
    City { name: "贵阳", province: "贵州省", abbr: "GY", tier: 3, weight: 6.2, districts: &[d(520103, "云岩区"), d(520102, "南明区")] },
    City { name: "太原", province: "山西省", abbr: "TY", tier: 3, weight: 5.4, districts: &[d(140105, "小店区"), d(140106, "迎泽区")] },
    City { name: "无锡", province: "江苏省", abbr: "WX", tier: 3, weight: 7.5, districts: &[d(320213, "梁溪区"), d(320214, "新吴区")] },
    City { name: "温州", province: "浙江省", abbr: "WZ", tier: 3, weight: 9.7, districts: &[d(330302, "鹿城区")] },
    City { name: "洛阳", province: "河南省", abbr: "LY", tier: 3, weight: 7.0, districts: &[d(410311, "洛龙区"), d(410302, "老城区")] },
    City { name: "赣州", province: "江西省", abbr: "GZH", tier: 3, weight: 5.0, districts: &[d(360702, "章贡区")] },
    City { name: "绵阳", province: "四川省", abbr: "MY", tier: 3, weight: 4.9, districts: &[d(510703, "涪城区")] },
    City { name: "保定", province: "河北省", abbr: "BD", tier: 3, weight: 5.2, districts: &[d(130602, "竞秀区")] },
    City { name: "潍坊", province: "山东省", abbr: "WF", tier: 3, weight: 5.4, districts: &[d(370702, "潍城区")] },
    City { name: "泉州", province: "福建省", abbr: "QZ", tier: 3, weight: 6.8, districts: &[d(350502, "鲤城区")] },
    City { name: "襄阳", province: "湖北省", abbr: "XY", tier: 3, weight: 4.3, districts: &[d(420602, "襄城区")] },
    City { name: "兰州", province: "甘肃省", abbr: "LZ", tier: 3, weight: 4.4, districts: &[d(620102, "城关区")] },
];

/// A branch of the bank.
#[derive(Debug, Clone)]
pub struct Branch {
    pub code: String,
    pub name: String,
    pub city: usize,
}

/// All branches, and for each city the range of its branches.
#[derive(Debug, Clone)]
pub struct BranchNetwork {
    pub branches: Vec<Branch>,
    /// Index of each city's first branch; a city's branches are contiguous.
    pub first_of_city: Vec<usize>,
    /// Cumulative city weights (the last is 1.0) for drawing a home city.
    city_cumulative: Vec<f64>,
}

impl BranchNetwork {
    pub fn new() -> Self {
        let mut branches = Vec::new();
        let mut first_of_city = Vec::new();
        for (ci, c) in CITIES.iter().enumerate() {
            first_of_city.push(branches.len());
            for (di, dist) in c.districts.iter().enumerate() {
                let name = if c.districts.len() == 1 {
                    format!("{}分行营业部", c.name)
                } else {
                    format!("{}{}支行", c.name, dist.name)
                };
                branches.push(Branch {
                    code: format!("{}{:02}", c.abbr, di + 1),
                    name,
                    city: ci,
                });
            }
        }
        let total: f64 = CITIES.iter().map(|c| c.weight).sum();
        let mut acc = 0.0;
        let mut city_cumulative: Vec<f64> = CITIES
            .iter()
            .map(|c| {
                acc += c.weight / total;
                acc
            })
            .collect();
        if let Some(last) = city_cumulative.last_mut() {
            *last = 1.0;
        }
        BranchNetwork {
            branches,
            first_of_city,
            city_cumulative,
        }
    }

    /// Draws a home city weighted by size.
    pub fn draw_city<R: Rng>(&self, rng: &mut R) -> usize {
        let u: f64 = rng.random();
        self.city_cumulative
            .iter()
            .position(|&c| u < c)
            .unwrap_or(CITIES.len() - 1)
    }

    /// The branch serving district `district` of `city`.
    pub fn branch_of(&self, city: usize, district: usize) -> &Branch {
        &self.branches[self.first_of_city[city] + district]
    }
}

impl Default for BranchNetwork {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_codes_are_six_digits_and_branch_codes_unique() {
        let net = BranchNetwork::new();
        let mut codes: Vec<&str> = net.branches.iter().map(|b| b.code.as_str()).collect();
        codes.sort_unstable();
        let n = codes.len();
        codes.dedup();
        assert_eq!(codes.len(), n);
        for c in CITIES {
            for dist in c.districts {
                assert!((110_000..=820_000).contains(&dist.code), "{}", dist.code);
            }
        }
        assert!(CITIES.len() >= 30);
    }
}
