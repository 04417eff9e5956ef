use actix_cookieless::rewrite::{LinkPolicy, TokenRewriter};
fn main() {
    let data = std::fs::read(std::env::args().nth(1).unwrap()).unwrap();
    let html = &data[1 + usize::from(data[0] & 7).min((data.len() - 1) / 2) * 2..];
    let policy =
        LinkPolicy::new("https://shop.example/a/page?x=1", &[], "sessionid", "TOK").unwrap();
    let mut r = TokenRewriter::new(policy, data[0] & 0x80 != 0, encoding_rs::UTF_8).unwrap();
    let mut out = r.write(html);
    out.extend(r.end());
    println!(
        "IN : {:?}\nOUT: {:?}",
        String::from_utf8_lossy(html),
        String::from_utf8_lossy(&out)
    );
}
