-- 0013: Alipay as a second payment channel (issue 16).  An order may be
-- paid through 'alipay'; its attempts record the channel and Alipay's
-- trade types: QR (alipay.trade.precreate, the face-to-face QR code),
-- PAGE (alipay.trade.page.pay, a PC browser) and WAP (alipay.trade.wap.pay,
-- a mobile browser).  WeChat's JSAPI and NATIVE stay as they are.
ALTER TABLE payment_orders DROP CONSTRAINT payment_orders_payment_method_check;
ALTER TABLE payment_orders ADD CONSTRAINT payment_orders_payment_method_check
    CHECK (payment_method IN ('wechat', 'alipay'));
ALTER TABLE payment_orders DROP CONSTRAINT payment_orders_trade_type_check;
ALTER TABLE payment_orders ADD CONSTRAINT payment_orders_trade_type_check
    CHECK (trade_type IN ('JSAPI', 'NATIVE', 'QR', 'PAGE', 'WAP'));

ALTER TABLE payment_attempts DROP CONSTRAINT payment_attempts_channel_check;
ALTER TABLE payment_attempts ADD CONSTRAINT payment_attempts_channel_check
    CHECK (channel IN ('wechat', 'alipay'));
ALTER TABLE payment_attempts DROP CONSTRAINT payment_attempts_trade_type_check;
ALTER TABLE payment_attempts ADD CONSTRAINT payment_attempts_trade_type_check
    CHECK (trade_type IN ('JSAPI', 'NATIVE', 'QR', 'PAGE', 'WAP'));
