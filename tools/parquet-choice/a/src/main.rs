//! Variant A: parquet (no arrow), low-level column API, snappy.
use parquet::basic::Compression;
use parquet::column::reader::get_typed_column_reader;
use parquet::data_type::{ByteArray, ByteArrayType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use std::sync::Arc;
use std::time::Instant;

const KINDS: [&str; 6] = ["card", "transfer_in", "transfer_out", "cash", "fee", "interest"];

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(10_000_000);
    let comp = std::env::args().nth(2).unwrap_or_else(|| "snappy".into());
    let mut cust = Vec::with_capacity(n);
    let mut day = Vec::with_capacity(n);
    let mut amt = Vec::with_capacity(n);
    let mut kind = Vec::with_capacity(n);
    let mut x: u64 = 88172645463325252;
    for i in 0..n {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        cust.push((x % 100_000) as i32);
        day.push(19_000 + (i * 365 / n) as i32);
        amt.push((x >> 20) as i64 % 1_000_000 - 300_000);
        kind.push(ByteArray::from(KINDS[(x >> 40) as usize % KINDS.len()]));
    }
    let schema = Arc::new(parse_message_type("message t { required int32 customer_idx (INTEGER(32,false)); required int32 day (DATE); required int64 amount; required binary kind (STRING); }").unwrap());
    let c = if comp == "none" { Compression::UNCOMPRESSED } else { Compression::SNAPPY };
    let props = Arc::new(WriterProperties::builder().set_compression(c).set_max_row_group_row_count(Some(1 << 20)).build());
    let path = std::env::temp_dir().join("pqa.parquet");
    let t = Instant::now();
    let file = std::fs::File::create(&path).unwrap();
    let mut w = SerializedFileWriter::new(file, schema, props).unwrap();
    let rg_rows = 1 << 20;
    let mut start = 0;
    while start < n {
        let end = (start + rg_rows).min(n);
        let mut rg = w.next_row_group().unwrap();
        let mut i = 0;
        while let Some(mut col) = rg.next_column().unwrap() {
            match i {
                0 => { col.typed::<Int32Type>().write_batch(&cust[start..end], None, None).unwrap(); }
                1 => { col.typed::<Int32Type>().write_batch(&day[start..end], None, None).unwrap(); }
                2 => { col.typed::<Int64Type>().write_batch(&amt[start..end], None, None).unwrap(); }
                _ => { col.typed::<ByteArrayType>().write_batch(&kind[start..end], None, None).unwrap(); }
            }
            col.close().unwrap();
            i += 1;
        }
        rg.close().unwrap();
        start = end;
    }
    w.close().unwrap();
    let wt = t.elapsed();
    let size = std::fs::metadata(&path).unwrap().len();
    // read all four columns
    let t = Instant::now();
    let r = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    let (mut s_c, mut s_d, mut s_a, mut s_k, mut rows) = (0i64, 0i64, 0i64, 0usize, 0usize);
    for g in 0..r.num_row_groups() {
        let rg = r.get_row_group(g).unwrap();
        let m = rg.metadata().num_rows() as usize;
        let mut v32 = Vec::with_capacity(m);
        let mut cr = get_typed_column_reader::<Int32Type>(rg.get_column_reader(0).unwrap());
        cr.read_records(m, None, None, &mut v32).unwrap();
        s_c += v32.iter().map(|&v| v as i64).sum::<i64>();
        v32.clear();
        let mut cr = get_typed_column_reader::<Int32Type>(rg.get_column_reader(1).unwrap());
        cr.read_records(m, None, None, &mut v32).unwrap();
        s_d += v32.iter().map(|&v| v as i64).sum::<i64>();
        let mut v64 = Vec::with_capacity(m);
        let mut cr = get_typed_column_reader::<Int64Type>(rg.get_column_reader(2).unwrap());
        cr.read_records(m, None, None, &mut v64).unwrap();
        s_a += v64.iter().sum::<i64>();
        let mut vb: Vec<ByteArray> = Vec::with_capacity(m);
        let mut cr = get_typed_column_reader::<ByteArrayType>(rg.get_column_reader(3).unwrap());
        cr.read_records(m, None, None, &mut vb).unwrap();
        s_k += vb.iter().map(|b| b.len()).sum::<usize>();
        rows += m;
    }
    let rt = t.elapsed();
    // projection: customer + amount only
    let t = Instant::now();
    let mut s2 = 0i64;
    for g in 0..r.num_row_groups() {
        let rg = r.get_row_group(g).unwrap();
        let m = rg.metadata().num_rows() as usize;
        let mut v64 = Vec::with_capacity(m);
        let mut cr = get_typed_column_reader::<Int64Type>(rg.get_column_reader(2).unwrap());
        cr.read_records(m, None, None, &mut v64).unwrap();
        let mut v32 = Vec::with_capacity(m);
        let mut cr = get_typed_column_reader::<Int32Type>(rg.get_column_reader(0).unwrap());
        cr.read_records(m, None, None, &mut v32).unwrap();
        s2 += v64.iter().sum::<i64>() + v32.len() as i64;
    }
    let pt = t.elapsed();
    println!("A parquet-lowlevel {comp}: rows={rows} write={:.2}s read4={:.2}s read2={:.2}s size={:.1}MB check={} {} {} {} {}", wt.as_secs_f64(), rt.as_secs_f64(), pt.as_secs_f64(), size as f64 / 1e6, s_c, s_d, s_a, s_k, s2);
}
